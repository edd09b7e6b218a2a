"""Background work: the SMS outbox's RQ jobs and the worker that runs them.

``queues`` (enqueue after commit) → ``jobs`` (send one outbox row; sweep) → ``sweeper`` →
``thread_pool`` (an RQ worker keeping many sends in flight) → ``worker`` (what
``ussd-gateway worker`` runs). Nothing here runs at import time.
"""

"""The `ussd-gateway` command: database, staff accounts, checks, clear errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str, stdin: str | None = None, config: str = "data_dir: data\n"):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(config)
    return subprocess.run(
        [sys.executable, "-m", "ussd_gateway.cli", "--config", str(cfg), *args],
        input=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )


def test_db_upgrade_migrates_and_seeds_the_catalogue_once(tmp_path: Path) -> None:
    first = run(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "15 service(s) ajouté(s)" in first.stdout
    again = run(tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "0 service(s) ajouté(s)" in again.stdout


def test_staff_add_reads_the_password_from_stdin_and_refuses_a_duplicate(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    made = run(tmp_path, "staff", "add", "Agent@Mairie.tg", "--role", "agent", "--service", "EC01",
               "--password-stdin", stdin="un mot de passe solide\n")
    assert made.returncode == 0, made.stderr
    assert "Compte agent créé pour Agent@Mairie.tg" in made.stdout
    twice = run(tmp_path, "staff", "add", "agent@mairie.tg", "--role", "agent",
                "--password-stdin", stdin="un autre mot de passe\n")
    assert twice.returncode == 1 and "existe déjà" in twice.stderr
    short = run(tmp_path, "staff", "add", "b@mairie.tg", "--role", "admin",
                "--password-stdin", stdin="court\n")
    assert short.returncode == 1 and "au moins" in short.stderr


def test_unreachable_database_is_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade",
                 config="database:\n  url: postgresql://postgres@127.0.0.1:9/none\n")
    assert result.returncode == 1
    assert "Base de données injoignable" in result.stderr
    assert "Traceback" not in result.stderr


def test_menus_check_passes_on_the_commune_menus(tmp_path: Path) -> None:
    result = run(tmp_path, "menus", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "menus OK" in result.stdout


@pytest.mark.parametrize("broken", ["unknown_target", "too_long", "unknown_action"])
def test_menus_check_fails_on_a_broken_definition(tmp_path: Path, broken: str) -> None:
    fixture = REPO / "tests" / "fixtures" / "menus_broken" / broken
    if not fixture.exists():
        pytest.fail(f"missing fixture {fixture}")
    result = run(tmp_path, "menus", "check", "--path", str(fixture))
    assert result.returncode == 1
    assert "problem(s)" in result.stdout

"""Flask-WTF forms of the staff view (each carries its CSRF token). Labels are French."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ussd_gateway.passwords import MIN_PASSWORD_LENGTH
from ussd_gateway.staff_accounts import ROLES

try:  # WTForms >= 3.3 wants SelectChoice objects; older versions take (value, label) tuples
    from wtforms import SelectChoice as _SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    _SelectChoice = None

ROLE_LABELS = {"agent": "Agent", "supervisor": "Superviseur", "admin": "Administrateur"}


def choices(pairs: Iterable[tuple[str, str]]) -> list[Any]:
    """Select options from (value, label) pairs, in the form the installed WTForms expects."""
    if _SelectChoice is None:
        return list(pairs)
    return [_SelectChoice(value, label) for value, label in pairs]
PUBLIC_NOTE_MAX = 300
INTERNAL_NOTE_MAX = 2000


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = StringField("Adresse e-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=200)])


class SignOutForm(FlaskForm):
    """Sign-out is a POST (a link could be triggered by another site)."""


class VersionedForm(FlaskForm):
    """Forms that change a request carry the version the agent was looking at."""

    version = HiddenField(validators=[InputRequired()])

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class StatusChangeForm(VersionedForm):
    to_status = SelectField("Nouveau statut", choices=[], validators=[InputRequired()])
    public_note = TextAreaField(
        "Note au demandeur (envoyée par SMS)",
        validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)],
    )
    internal_note = TextAreaField(
        "Note interne (jamais envoyée)", validators=[Optional(), Length(max=INTERNAL_NOTE_MAX)]
    )


class ReferForm(VersionedForm):
    organisme = StringField(
        "Organisme compétent", validators=[DataRequired(), Length(max=120)]
    )
    internal_note = TextAreaField(
        "Note interne", validators=[Optional(), Length(max=INTERNAL_NOTE_MAX)]
    )


class DuplicateForm(VersionedForm):
    original_reference = StringField(
        "Référence de la demande d'origine", validators=[DataRequired(), Length(max=20)]
    )
    internal_note = TextAreaField(
        "Note interne", validators=[Optional(), Length(max=INTERNAL_NOTE_MAX)]
    )


class AssignForm(VersionedForm):
    assignee_id = SelectField("Attribuer à", choices=[])


class ServiceEditForm(FlaskForm):
    fee_fcfa = IntegerField(
        "Tarif (FCFA, vide si inconnu)", validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    fee_note = StringField("Précision sur le tarif", validators=[Optional(), Length(max=120)])
    delay_days = IntegerField(
        "Délai indicatif (jours)", validators=[InputRequired(), NumberRange(min=0, max=365)]
    )
    documents = TextAreaField("Pièces à fournir", validators=[Optional(), Length(max=2000)])
    active = BooleanField("Service proposé sur le USSD")


class StaffCreateForm(FlaskForm):
    email = StringField("Adresse e-mail", validators=[DataRequired(), Length(max=254)])
    full_name = StringField("Nom complet", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Rôle", choices=choices((r, ROLE_LABELS[r]) for r in ROLES))
    services = MultiCheckboxField("Services traités (agents)", choices=[])
    password = PasswordField(
        f"Mot de passe initial (vide : généré, {MIN_PASSWORD_LENGTH} caractères minimum)",
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )


class StaffEditForm(FlaskForm):
    full_name = StringField("Nom complet", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Rôle", choices=choices((r, ROLE_LABELS[r]) for r in ROLES))
    services = MultiCheckboxField("Services traités (agents)", choices=[])


class ConfirmForm(FlaskForm):
    """A button-only form (disable, enable, reset password)."""

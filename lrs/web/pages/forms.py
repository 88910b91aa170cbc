"""The pages' forms (Flask-WTF: every post carries its CSRF token), labels in bokmål with English in the catalog."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import DateField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lrs import principal
from lrs.competence import evidence
from lrs.store import credentials as creds


class LoginForm(FlaskForm):
    username = StringField(_l("Brukernavn"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Passord"), validators=[DataRequired(), Length(max=200)])


def problems(form) -> str:
    """A form's errors in one line, field by field, each named by its label (never its id)."""
    return "; ".join(f"{form[field].label.text if field in form else field}: {', '.join(map(str, errors))}"
                     for field, errors in form.errors.items())


# The roles as people call them (lrs.principal.ROLES are the stored names).
ROLE_NAMES = {"employee": _l("Ansatt"), "leader": _l("Leder"), "instructor": _l("Instruktør"),
              "author": _l("Kursforfatter"), "admin": _l("Administrator"),
              "region": _l("Regional lesetilgang"), "trust_admin": _l("Administrator for helseforetaket")}


class CheckboxesField(SelectMultipleField):
    """A choice of several, as labelled checkboxes. Its choices are checked by the view (a unit tree changes)."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass


class PlainForm(FlaskForm):
    """A form with nothing but its CSRF token (sign out, revoke, requeue …)."""


class EvidenceForm(FlaskForm):
    competence = SelectField(_l("Kompetanse"), validators=[
        DataRequired(_l("Velg hvilken kompetanse opplæringen gjelder."))])
    title = StringField(_l("Hva gjennomførte du?"), validators=[
        DataRequired(_l("Skriv hva du gjennomførte, for eksempel navnet på kurset.")),
        Length(max=500, message=_l("Skriv høyst 500 tegn."))])
    completed_on = DateField(_l("Dato gjennomført"), validators=[
        DataRequired(_l("Skriv datoen da du ble ferdig."))])
    certificate = FileField(_l("Kursbevis (PDF, PNG eller JPEG)"), validators=[
        Optional(), FileAllowed(["pdf", "png", "jpg", "jpeg"], _l("Kursbeviset må være en PDF-, PNG- eller JPEG-fil.")),
        FileSize(evidence.CERTIFICATE_MAX, message=_l("Kursbeviset kan være høyst 10 MB."))])


class UserForm(FlaskForm):
    username = StringField(_l("Brukernavn"), validators=[DataRequired(), Length(max=100)])
    display_name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Passord (minst 12 tegn; tomt: bare OpenID Connect)"), validators=[Optional()])
    employee_id = StringField(_l("Ansattnr."), validators=[Optional(), Length(max=64)])
    roles = CheckboxesField(_l("Roller"), choices=[(r, ROLE_NAMES[r]) for r in principal.ROLES])
    led_units = CheckboxesField(_l("Leder eller instruktør for enhetene"), choices=[])


class RuleForm(FlaskForm):
    rule = TextAreaField(_l("Regel (YAML eller JSON, se docs/competence.md)"), validators=[DataRequired()])


class ImportForm(FlaskForm):
    file = FileField(_l("Fil (katalog: YAML eller CSV; HR-eksport: CSV med enheter eller ansatte)"),
                     validators=[FileRequired(), FileAllowed(["yaml", "yml", "csv"])])


class PublishForm(FlaskForm):
    package = FileField(_l("Modulpakke (zip fra course-builder build, eller cmi5.xml)"), validators=[
        FileRequired(_l("Velg en modulpakke å laste opp.")),
        FileAllowed(["zip", "xml"], _l("Last opp en cmi5-pakke: en .zip eller en cmi5.xml."))])


class RolesForm(FlaskForm):
    roles = CheckboxesField(_l("Roller"), choices=[(r, ROLE_NAMES[r]) for r in principal.ROLES])
    led_units = CheckboxesField(_l("Leder eller instruktør for enhetene"), choices=[])


class CredentialForm(FlaskForm):
    name = StringField(_l("Hvem bruker den"), validators=[DataRequired(), Length(max=200)])
    scopes = SelectMultipleField(_l("Tilganger"), choices=[(s, s) for s in creds.SCOPES], validators=[DataRequired()])



class EntryForm(FlaskForm):
    """A procedure or supervision meeting a participant in a programme logs (lrs.programmes)."""
    objective = SelectField(_l("Læringsmål"), validators=[DataRequired()])
    kind = SelectField(_l("Hva slags"), choices=[("procedure", _l("Prosedyre")),
                                                  ("supervision", _l("Veiledningssamtale"))],
                       validators=[DataRequired()])
    title = StringField(_l("Hva gjorde du?"), validators=[DataRequired(), Length(max=500)])
    done_on = DateField(_l("Dato"), validators=[DataRequired()])


class TransferForm(FlaskForm):
    """Moving a participant to another unit or trust, or to another supervisor or leader."""
    unit = SelectField(_l("Enhet"), validators=[DataRequired()])
    supervisor = StringField(_l("Veileder (ansattnr.)"), validators=[Optional(), Length(max=64)])
    leader = StringField(_l("Leder (ansattnr.)"), validators=[Optional(), Length(max=64)])
    note = StringField(_l("Merknad"), validators=[Optional(), Length(max=500)])

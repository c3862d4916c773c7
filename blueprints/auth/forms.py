from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from blueprints.auth.service import MIN_PASSWORD, validate_username
from errors import BadRequest


def _username_rule(form, field) -> None:
    """The service's own check (USERNAME_RE with fullmatch). WTForms' ``Regexp``
    validator calls ``re.match``, which accepts any string that merely starts
    with a valid name ("root\n" passed with ``^...$``)."""
    try:
        validate_username(field.data)
    except BadRequest:
        raise ValidationError(_l("3-32 letters, digits, '_', '.' or '-'.")) from None


# Labels and messages are lazy: the form classes are built at import time, the
# text is chosen per request (i18n.py). WTForms' own "This field is required."
# is English only, so the forms name their own.
_REQUIRED = _l("Required.")
_AT_LEAST = _l("At least %(count)s characters.", count=MIN_PASSWORD)
_DIFFER = _l("The passwords differ.")


def _new_password(label) -> PasswordField:
    """A password being chosen (registering or changing it): the service's minimum length."""
    return PasswordField(label, validators=[DataRequired(_REQUIRED),
                                            Length(min=MIN_PASSWORD, max=256, message=_AT_LEAST)])


def _confirm(label, of: str) -> PasswordField:
    """The new password typed again; must equal the field named ``of``."""
    return PasswordField(label, validators=[DataRequired(_REQUIRED), EqualTo(of, message=_DIFFER)])


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_REQUIRED), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_REQUIRED),
                                                         Length(max=256)])
    remember = BooleanField(_l("Keep me signed in"))


class RegisterForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_REQUIRED),
            _username_rule,
        ],
    )
    password = _new_password(_l("Password"))
    confirm = _confirm(_l("Confirm password"), of="password")


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_REQUIRED)])
    new_password = _new_password(_l("New password"))
    confirm = _confirm(_l("Confirm new password"), of="new_password")

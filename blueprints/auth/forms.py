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
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_REQUIRED),
            Length(min=MIN_PASSWORD, max=256, message=_AT_LEAST),
        ],
    )
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[DataRequired(_REQUIRED), EqualTo("password", message=_DIFFER)],
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_REQUIRED)])
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_REQUIRED),
            Length(min=MIN_PASSWORD, max=256, message=_AT_LEAST),
        ],
    )
    confirm = PasswordField(
        _l("Confirm new password"),
        validators=[DataRequired(_REQUIRED), EqualTo("new_password", message=_DIFFER)],
    )

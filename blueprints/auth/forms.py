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
        raise ValidationError("3-32 letters, digits, '_', '.' or '-'.") from None


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=32)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in")


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            _username_rule,
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD, max=256, message=f"At least {MIN_PASSWORD} characters."),
        ],
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD, max=256, message=f"At least {MIN_PASSWORD} characters."),
        ],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")],
    )

"""Built-in speak skills. Each skill module is imported here so the registry finds it."""

from skills.speak.mail import smtp_mailer as smtp_mailer
from skills.speak.notify import notify as notify
from skills.speak.render import render as render
from skills.speak.say import say as say

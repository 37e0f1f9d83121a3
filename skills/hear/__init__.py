"""Built-in hear skills. Each skill module is imported here so the registry finds it."""

from skills.hear.inbox_skills import list_inbox as list_inbox
from skills.hear.inbox_skills import move_inbox_file as move_inbox_file
from skills.hear.recognizer import speech_recognizer as speech_recognizer
from skills.hear.transcribe import transcribe as transcribe

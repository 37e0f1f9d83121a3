"""Built-in hear skills. Each skill module is imported here so the registry finds it."""

from skills.hear.recognizer import speech_recognizer as speech_recognizer
from skills.hear.transcribe import transcribe as transcribe

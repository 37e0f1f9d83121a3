"""Built-in see skills. Each skill module is imported here so the registry finds it."""

from skills.see.ocr import ocr as ocr
from skills.see.ocr_engine import ocr_service as ocr_service
from skills.see.voucher import voucher as voucher

"""A stand-in for CIPS (人民币跨境支付系统): answers the bank's pacs.008 with pacs.002 status reports.

``python -m examples.cips --outbox outbox/pacs008 --inbox inbox/rmb-status`` answers every pacs.008
once (most accepted, some rejected with ISO status reason codes); see ``responder.py``.
"""

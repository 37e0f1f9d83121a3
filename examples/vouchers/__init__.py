"""Synthetic Chinese transfer vouchers for the demo, the tests and the OCR benchmark.

``python -m examples.vouchers --count 200 --seed 7 --out DIR --noise noisy`` writes
``voucher-0001.png`` (or ``.jpg``) and ``voucher-0001.json`` (the ground truth) per voucher.
See ``docs/see.md``.
"""

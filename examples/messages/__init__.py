"""Generators of realistic cross-border RMB payment messages with known defects (ground truth).

``generate_inbound`` writes CNY MT103 and CIPS pacs.008 messages with the project's own writers,
then puts one defect in some of them; ``generate_outbound`` builds customer instructions for the
outbound bot. Run ``python -m examples.messages --help`` to write a batch to a folder.
"""

"""Checks on payment data: amounts in words, identifiers, sanctions screening, routing.

Plain domain code with no engine in sight; the skills in ``skills.think.check_skills`` wrap it.
Heavy parts (the sanctions list) load only when asked for.
"""

"""Built-in think skills. Each skill module is imported here so the registry finds it."""

from skills.think.approval import approval as approval
from skills.think.basics import evaluate as evaluate
from skills.think.basics import require as require
from skills.think.basics import wait as wait
from skills.think.check_skills import check_amount as check_amount
from skills.think.check_skills import route_payment as route_payment
from skills.think.check_skills import sanctions_list as sanctions_list
from skills.think.check_skills import screen_names as screen_names
from skills.think.check_skills import validate_identifiers as validate_identifiers
from skills.think.payment_skills import build_pacs002_file as build_pacs002_file
from skills.think.payment_skills import build_pacs008_file as build_pacs008_file
from skills.think.payment_skills import parse_payment as parse_payment
from skills.think.payment_skills import read_reconciliation as read_reconciliation
from skills.think.reconcile import reconcile as reconcile

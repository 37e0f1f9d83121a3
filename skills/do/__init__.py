"""Built-in do skills. Each skill module is imported here so the registry finds it."""

from skills.do.browser import browser_click as browser_click
from skills.do.browser import browser_fill_form as browser_fill_form
from skills.do.browser import browser_open as browser_open
from skills.do.browser import browser_read_text as browser_read_text
from skills.do.browser import browser_service as browser_service
from skills.do.browser import browser_submit_form as browser_submit_form
from skills.do.desktop import desktop_click_image as desktop_click_image
from skills.do.desktop import desktop_focus_window as desktop_focus_window
from skills.do.desktop import desktop_press as desktop_press
from skills.do.desktop import desktop_read_field as desktop_read_field
from skills.do.desktop import desktop_service as desktop_service
from skills.do.desktop import desktop_type_text as desktop_type_text
from skills.do.desktop import terminal_submit_payment as terminal_submit_payment
from skills.do.files import append_record as append_record
from skills.do.files import read_file as read_file
from skills.do.files import write_file as write_file
from skills.do.http import http_get as http_get
from skills.do.http import http_post as http_post
from skills.paths import file_roots_service as file_roots_service

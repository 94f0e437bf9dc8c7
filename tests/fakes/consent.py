"""The browser's part of an OAuth2 consent: read the provider's page, press Accept or Decline.

Shared by the fakes' own tests and the addons' tests, so that every test goes through the
consent form the fake really serves (its hidden fields and buttons), as a browser would.
"""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests


class ConsentForm(HTMLParser):
    """The consent page's form: its action, hidden fields and buttons (by id)."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self.buttons = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "button":
            self.buttons[attrs.get("id")] = (attrs.get("name"), attrs.get("value"))


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def read_consent_page(authorize_url, params=None):
    """GET the authorize page; (response, ConsentForm). The form is empty for a non-HTML answer."""
    page = requests.get(authorize_url, params=params, allow_redirects=False, timeout=10)
    form = ConsentForm()
    if page.status_code == 200 and page.headers.get("Content-Type", "").startswith("text/html"):
        form.feed(page.text)
    return page, form


def submit_consent(page, form, decision="accept"):
    """Press a button of the form read from ``page``; the provider's redirect (not followed)."""
    name, value = form.buttons[decision]
    return requests.post(
        urljoin(page.url, form.action), data={**form.fields, name: value}, allow_redirects=False, timeout=10
    )


def consent(authorize_url, decision="accept"):
    """The whole browser part; the query of the redirect back to the client (code or error)."""
    page, form = read_consent_page(authorize_url)
    if page.status_code in (301, 302, 303):  # an error sent straight back to the client
        return query_of(page.headers["Location"])
    assert page.status_code == 200 and form.buttons, page.text
    answer = submit_consent(page, form, decision)
    assert answer.status_code in (302, 303), answer.text
    return query_of(answer.headers["Location"])

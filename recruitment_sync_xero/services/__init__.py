from . import xero

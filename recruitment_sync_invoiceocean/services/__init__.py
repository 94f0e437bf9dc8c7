from . import invoiceocean

from . import invoiceocean_invoice_wizard

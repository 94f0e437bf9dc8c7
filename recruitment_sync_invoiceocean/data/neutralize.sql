-- A neutralised copy (test or staging database) must never talk to the real InvoiceOcean account,
-- nor accept its webhooks.
UPDATE recruitment_sync_integration
   SET io_api_token = NULL,
       io_webhook_secret = NULL
 WHERE provider = 'invoiceocean';

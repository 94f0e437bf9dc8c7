-- A neutralised copy (test or staging database) must never talk to the real systems.
DELETE FROM recruitment_sync_token;
UPDATE recruitment_sync_integration
   SET schedule_active = false,
       client_secret = NULL,
       state = CASE WHEN state = 'connected' THEN 'needs_reconnect' ELSE state END;

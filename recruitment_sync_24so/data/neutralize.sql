-- A neutralized copy must never log in to 24SevenOffice with production logins.
UPDATE recruitment_sync_24so_credential SET password = '', state = 'untested', active = false;

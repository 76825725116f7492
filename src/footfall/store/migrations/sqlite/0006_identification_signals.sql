-- [T6] What Fingerprint's smart signals are computed from (api/fingerprint_signals.py): the
-- browser's time zone beside the one its IP address is located in (a VPN's tell), and the sign
-- of automation the server read from the browser's evidence (contradictions are tampering).
-- Requests identified before this release have none of them: their signals read as not detected.
ALTER TABLE identifications ADD COLUMN timezone TEXT;
ALTER TABLE identifications ADD COLUMN ip_timezone TEXT;
ALTER TABLE identifications ADD COLUMN automation TEXT;

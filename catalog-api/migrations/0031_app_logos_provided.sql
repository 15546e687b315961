-- A logo given to the platform directly (the sandbox's demo apps, whose logoUrl is on a host that
-- does not exist) rather than fetched from the app's logoUrl: checked and served like a fetched one,
-- but not fetched again while the app's logoUrl stays the one it was given for.
ALTER TABLE app_logos ADD COLUMN provided boolean NOT NULL DEFAULT false;

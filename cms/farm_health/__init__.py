"""The farm's health over the last hour and day: small time series in Redis, and the admin's
charts of them (docs/admin.md, "Farm health")."""

#!/bin/sh
# Run once by the mysql image on an empty data volume (docker-entrypoint-initdb.d): Temporal's
# two databases and the user the Temporal server and temporal-admin-tools connect as. The app's
# own database and user come from MYSQL_DATABASE / MYSQL_USER / MYSQL_PASSWORD.
set -eu
mysql --user=root --password="$MYSQL_ROOT_PASSWORD" <<SQL
CREATE DATABASE IF NOT EXISTS temporal;
CREATE DATABASE IF NOT EXISTS temporal_visibility;
CREATE USER IF NOT EXISTS 'temporal'@'%' IDENTIFIED BY '${TEMPORAL_DB_PASSWORD}';
GRANT ALL PRIVILEGES ON temporal.* TO 'temporal'@'%';
GRANT ALL PRIVILEGES ON temporal_visibility.* TO 'temporal'@'%';
SQL

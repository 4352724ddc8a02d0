-- Included by tools/demo.sql right after a statement that must be refused
-- (with ON_ERROR_STOP off for it): says so when it was not, which makes
-- tools/demo.sh fail, and stops on errors again.
\if :ERROR
\else
\echo 'demo failed: the statement above should have been refused'
\endif
\set ON_ERROR_STOP on

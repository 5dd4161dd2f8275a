-- train_data--<version>.sql — the full install script of the default version,
-- built by the Makefile from sql/src/*.sql (concatenated in name order).  Do
-- not edit the built file: edit the source under sql/src, which holds the one
-- current definition of every object of the extension.
--
-- Every object lives in schema train_data (fixed in the control file) and every
-- reference below is schema-qualified, so nothing depends on search_path.
-- PL/pgSQL functions and SQL functions with a string body pin search_path to
-- pg_catalog, pg_temp.  SQL functions with an SQL-standard body (RETURN ... or
-- BEGIN ATOMIC ... END) are resolved when they are created, so search_path
-- at run time cannot change them; they carry no SET clause, which keeps them
-- cheap to call (and inlinable).
--
-- Released versions are frozen: train_data--1.0.sql (the full 1.0 script)
-- and every update script never change.  A change to an object here also
-- goes, as only that change, into the update script of the next version
-- (CONTRIBUTING.md); test/t/004_upgrade.pl checks that a fresh install and an
-- updated database have the same catalog.

\echo Use "CREATE EXTENSION train_data" to load this file. \quit


-- train_data--1.0--1.1.sql — from 1.0 to 1.1.
--
-- 1.1 changes no SQL object: its native code gained the JSON, CSV and
-- Markdown documents of export_conversations and a faster export writer,
-- both inside the shared library, whose C entry points and SQL signatures
-- are the ones 1.0 declared.  The script exists so that every installed 1.0
-- database moves to 1.1 with ALTER EXTENSION train_data UPDATE, and so that
-- the next change to the SQL has the file to go into.

\echo Use "ALTER EXTENSION train_data UPDATE TO '1.1'" to load this file. \quit

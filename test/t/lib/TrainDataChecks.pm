# TrainDataChecks.pm — what the TAP scripts share: queries to compare a
# batch job's live counters with its items, and the roles of an application
# and a worker.
package TrainDataChecks;

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(counter_totals_sql item_totals_sql app_and_worker_roles_sql);

# "completed failed cancelled in_flight" summed over the job's counter shards.
sub counter_totals_sql
{
	my ($job) = @_;
	return qq{
SELECT coalesce(sum(completed_items), 0) || ' ' || coalesce(sum(failed_items), 0) || ' '
       || coalesce(sum(cancelled_items), 0) || ' ' || coalesce(sum(in_flight), 0)
FROM train_data.batch_job_counters WHERE batch_job_id = '$job'};
}

# The same four numbers counted from the job's items (in flight: processing).
sub item_totals_sql
{
	my ($job) = @_;
	return qq{
SELECT count(*) FILTER (WHERE status = 'completed') || ' ' || count(*) FILTER (WHERE status = 'failed') || ' '
       || count(*) FILTER (WHERE status = 'cancelled') || ' ' || count(*) FILTER (WHERE status = 'processing')
FROM train_data.batch_items WHERE batch_job_id = '$job'};
}

# SQL (run as superuser) that installs the extension and creates two login
# roles: app, which reads and writes the tables (under row-level security),
# and generation_worker, which may run the worker functions only.
sub app_and_worker_roles_sql
{
	return <<'SQL';
CREATE EXTENSION train_data;
CREATE ROLE app LOGIN;
GRANT USAGE ON SCHEMA train_data TO app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA train_data TO app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA train_data TO app;
CREATE ROLE generation_worker LOGIN;
GRANT USAGE ON SCHEMA train_data TO generation_worker;
GRANT EXECUTE ON FUNCTION train_data.claim_batch_items(text, integer, interval),
                          train_data.heartbeat_batch_item(uuid, numeric, interval, integer),
                          train_data.complete_batch_item(uuid, jsonb, integer, integer),
                          train_data.fail_batch_item(uuid, text, text, boolean, integer)
      TO generation_worker;
DO $$ BEGIN
    IF to_regprocedure('train_data.release_batch_item(uuid, integer)') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION train_data.release_batch_item(uuid, integer) TO generation_worker;
    END IF;
    IF to_regprocedure('train_data.release_worker_items(text, uuid[])') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION train_data.release_worker_items(text, uuid[]) TO generation_worker;
    END IF;
    IF to_regprocedure('train_data.log_discarded_response(uuid, integer, jsonb, integer)') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION train_data.log_discarded_response(uuid, integer, jsonb, integer) TO generation_worker;
    END IF;
END $$;
SQL
}

1;

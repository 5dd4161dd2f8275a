# TrainDataChecks.pm — queries the TAP scripts share to compare a batch
# job's live counters with its items.
package TrainDataChecks;

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(counter_totals_sql item_totals_sql);

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

1;

# test/lib.sh — shared steps of the test runner (test/run) and the demo (tools/demo).
#
# Sourced, not run.  Each function does one step: install missing packages,
# build and install the extension, re-run a script as an unprivileged user
# when invoked as root, start and stop a throwaway cluster.

TD_PG_MAJOR=15
TD_PACKAGES="postgresql-$TD_PG_MAJOR postgresql-server-dev-$TD_PG_MAJOR gcc make libc6-dev libipc-run-perl perl python3 clang-14 libclang-rt-14-dev valgrind pgbouncer"
TD_NODE_MAJOR=20
TD_TESTER=postgres

td_log() { printf '== %s\n' "$*" >&2; }

# Run a command with a bound of $1 seconds (none when 0): past it the
# command's process group gets TERM, and KILL 30 s later; says so.  Returns
# the command's status, 124 or 137 when it was stopped (td_stopped).
td_bounded() {
	local limit=$1 rc=0
	shift
	if [ "$limit" = 0 ]; then
		"$@" || rc=$?
		return $rc
	fi
	timeout -k 30 "$limit" "$@" || rc=$?
	td_stopped $rc && echo "stopped: '$*' did not finish in $limit s"
	return $rc
}

# Is $1 the status of a command td_bounded stopped?
td_stopped() { [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; }

# Run a command as root: directly when we are root, else through sudo.
td_as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install whatever of TD_PACKAGES is missing (apt-get update first: the
# machine may be new).  Debian's postgresql package would create and start a
# "main" cluster; we only need the binaries, so that is switched off first.
td_ensure_packages() {
	local missing="" p
	for p in $TD_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	td_log "installing:$missing"
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		td_as_root mkdir -p /etc/postgresql-common
		echo 'create_main_cluster = false' | td_as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
	td_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	td_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Node.js for tools/worker-node: when there is no `node` at all, Debian's
# nodejs and npm (Debian 12 ships Node 18; the worker needs TD_NODE_MAJOR or
# later — td_node_ok says whether what is installed will do).  A Node
# installed otherwise (NodeSource, nvm) is left alone.
td_ensure_node() {
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
	td_log "installing: nodejs npm"
	td_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	td_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}

# True when node and npm exist and node's major version is TD_NODE_MAJOR or later.
td_node_ok() {
	local v
	command -v npm >/dev/null 2>&1 || return 1
	v=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
	[ "$v" -ge "$TD_NODE_MAJOR" ]
}

# The Node worker's locked packages (npm ci) in the checkout $1 when its
# node_modules is missing and Node will do (td_node_ok); a failed install
# leaves no node_modules, which the callers report.
td_prepare_node_worker() {
	local dir=$1/tools/worker-node
	td_node_ok || return 0
	[ -d "$dir/node_modules" ] && return 0
	td_log "npm ci (tools/worker-node)"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || rm -rf "$dir/node_modules"
}

# Directory of the PostgreSQL server binaries (initdb, pg_ctl, ...).
td_bindir() { "$(td_pg_config)" --bindir; }
# TD_PG_CONFIG picks another installation (a private build, say).
td_pg_config() { echo "${TD_PG_CONFIG:-/usr/lib/postgresql/$TD_PG_MAJOR/bin/pg_config}"; }

# Build warning-free (-Werror) and install into the server's directories.
td_build_install() {
	local top=$1
	td_log "building and installing train_data"
	make -s -C "$top" PG_CONFIG="$(td_pg_config)" WERROR=1 >/dev/null
	td_as_root make -s -C "$top" PG_CONFIG="$(td_pg_config)" install >/dev/null
}

# PostgreSQL refuses to run as root.  Copy the tree to a fresh directory owned
# by an unprivileged user and run the same script there as that user; the
# copy is removed whatever happens.
td_rerun_as_tester() {
	local top=$1 script=$2 rc=0 copy
	shift 2
	copy=$(mktemp -d /tmp/train_data.XXXXXX)
	tar -C "$top" --exclude=.git -cf - . | tar -C "$copy" -xf -
	chown -R "$TD_TESTER" "$copy"
	chmod 755 "$copy"
	td_log "running as OS user $TD_TESTER in $copy"
	# from inside the copy: the caller's directory may be closed to that user
	(cd "$copy" && runuser -u "$TD_TESTER" -- env TD_AS_TESTER=1 HOME="$copy" PATH="$PATH" \
		bash "$copy/$script" "$@") || rc=$?
	rm -rf "$copy"
	return $rc
}

# Start a throwaway cluster in a new temporary directory; sets TD_CLUSTER_DIR
# and exports PGHOST/PGPORT/PGUSER for every client started afterwards.
# Only a Unix socket inside that directory is opened, so no port can clash.
td_start_cluster() {
	local bindir
	bindir=$(td_bindir)
	TD_CLUSTER_DIR=$(mktemp -d /tmp/train_data_cluster.XXXXXX)
	"$bindir/initdb" -D "$TD_CLUSTER_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$TD_CLUSTER_DIR/initdb.log" 2>&1 ||
		{ cat "$TD_CLUSTER_DIR/initdb.log" >&2; return 1; }
	cat >>"$TD_CLUSTER_DIR/data/postgresql.conf" <<-EOF
		listen_addresses = ''
		unix_socket_directories = '$TD_CLUSTER_DIR'
		port = 54321
		fsync = off
		max_connections = 50
	EOF
	"$bindir/pg_ctl" -D "$TD_CLUSTER_DIR/data" -l "$TD_CLUSTER_DIR/server.log" -w start >/dev/null ||
		{ cat "$TD_CLUSTER_DIR/server.log" >&2; return 1; }
	export PGHOST=$TD_CLUSTER_DIR PGPORT=54321 PGUSER=postgres
	td_log "throwaway cluster running in $TD_CLUSTER_DIR"
}

# Stop the throwaway cluster (if any) and remove its directory.
td_stop_cluster() {
	[ -n "${TD_CLUSTER_DIR:-}" ] || return 0
	"$(td_bindir)/pg_ctl" -D "$TD_CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$TD_CLUSTER_DIR"
	TD_CLUSTER_DIR=
}

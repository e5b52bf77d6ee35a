#!/usr/bin/env bash
# redis.sh - a throwaway redis-server on a loopback port, for integration tests.
#
# Usage: testdata/redis/redis.sh up|down|status|addr|port|env
#
#   up      start redis-server (installing Debian's package when it is missing
#           and we are root) on a free port of 127.0.0.1, wait until it answers
#           PING, and print its address. A no-op when it is already running.
#   down    stop the redis-server that `up` started (only that pid).
#   status  print "running 127.0.0.1:PORT (pid N)" and exit 0, or
#           "not running" and exit 1.
#   addr, port
#           print 127.0.0.1:PORT of the running server (exit 1 when none),
#           ready for PVJOBS_REDIS_ADDR.
#   env     print `export PVJOBS_REDIS_ADDR=127.0.0.1:PORT`, for eval.
#
# The server keeps nothing on disk (--save "" --appendonly no), listens on
# 127.0.0.1 only, and runs in the foreground of its own session (setsid,
# nohup) so it outlives the shell that started it. Its pid file, log and
# address live in the state directory:
#   PVJOBS_REDIS_STATE  (default ${PVJOBS_CACHE:-$HOME/.cache/pvjobs}/redis-state)
# Other knobs:
#   PVJOBS_REDIS_PORT     first port to try (default 6390; the next 100 are tried)
#   PVJOBS_REDIS_TIMEOUT  seconds to wait for PING (default 20)
#   REDIS_SERVER          the redis-server binary (default: from PATH)
#
# Typical use:
#   eval "$(testdata/redis/redis.sh up >/dev/null && testdata/redis/redis.sh env)"
#   go test ./mapreduce/hll/
set -euo pipefail

state_dir=${PVJOBS_REDIS_STATE:-${PVJOBS_CACHE:-$HOME/.cache/pvjobs}/redis-state}
pid_file=$state_dir/redis.pid
addr_file=$state_dir/redis.addr
log_file=$state_dir/redis.log
first_port=${PVJOBS_REDIS_PORT:-6390}
timeout=${PVJOBS_REDIS_TIMEOUT:-20}

die() {
	echo "redis.sh: $*" >&2
	exit 1
}

# ping HOST PORT: true when a Redis server answers PING there.
ping_redis() {
	local host=$1 port=$2 reply
	if command -v redis-cli >/dev/null 2>&1; then
		reply=$(timeout 2 redis-cli -h "$host" -p "$port" PING 2>/dev/null) || return 1
		[[ $reply == PONG ]]
		return
	fi
	# Without redis-cli, speak RESP over bash's /dev/tcp.
	exec {fd}<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
	printf 'PING\r\n' >&"$fd"
	reply=
	read -r -t 2 reply <&"$fd" || true
	exec {fd}>&-
	[[ $reply == "+PONG"* ]]
}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() {
	local port=$1
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$port" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
		return
	fi
	! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# is_redis PID: true when PID is a live redis-server.
is_redis() {
	[[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q redis-server
}

# adopt_orphan: when the state files are gone (someone cleaned the cache) but
# the redis-server we started still runs, recognise it by its working
# directory, which redis-server sets to the state directory, and write the
# state files again. Only a server started by this script matches.
adopt_orphan() {
	local pid cwd title
	for pid in $(pgrep -x redis-server 2>/dev/null); do
		cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
		[[ $cwd == "$state_dir" || $cwd == "$state_dir (deleted)" ]] || continue
		# redis-server shows "redis-server 127.0.0.1:PORT" as its command line.
		title=$(tr '\0' ' ' <"/proc/$pid/cmdline")
		[[ $title =~ 127\.0\.0\.1:([0-9]+) ]] || continue
		mkdir -p "$state_dir"
		echo "$pid" >"$pid_file"
		echo "127.0.0.1:${BASH_REMATCH[1]}" >"$addr_file"
		echo "redis.sh: state files were missing; found our redis-server, pid $pid" >&2
		return 0
	done
	return 1
}

# running_pid: print the pid of our server and succeed when it is alive and is
# a redis-server.
running_pid() {
	local pid=
	[[ -f $pid_file ]] && pid=$(<"$pid_file")
	if ! is_redis "$pid"; then
		adopt_orphan || return 1
		pid=$(<"$pid_file")
		is_redis "$pid" || return 1
	fi
	echo "$pid"
}

current_addr() {
	[[ -f $addr_file ]] || return 1
	cat "$addr_file"
}

find_server() {
	if [[ -n ${REDIS_SERVER:-} ]]; then
		echo "$REDIS_SERVER"
		return
	fi
	if ! command -v redis-server >/dev/null 2>&1; then
		[[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 ||
			die "redis-server is not installed (apt-get install redis-server)"
		echo "redis.sh: installing redis-server with apt-get" >&2
		# Installing starts no service here: the server below is our own.
		apt-get update -qq >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2 ||
			die "apt-get install redis-server failed"
	fi
	command -v redis-server
}

cmd_up() {
	local pid addr
	if pid=$(running_pid) && addr=$(current_addr) && ping_redis "${addr%:*}" "${addr##*:}"; then
		echo "$addr"
		return 0
	fi
	rm -f "$pid_file" "$addr_file"
	mkdir -p "$state_dir"
	local server
	server=$(find_server)
	echo "redis.sh: $("$server" --version)" >&2

	local port tries
	for ((port = first_port; port < first_port + 100; port++)); do
		port_free "$port" || continue
		: >"$log_file"
		# --daemonize no keeps the server in the foreground of its own
		# session; setsid+nohup detach it from our terminal and job.
		setsid nohup "$server" \
			--bind 127.0.0.1 --port "$port" --protected-mode yes \
			--save "" --appendonly no --daemonize no \
			--dir "$state_dir" --pidfile "$state_dir/redis-server.pid" --logfile "" \
			>>"$log_file" 2>&1 </dev/null &
		pid=$!
		echo "$pid" >"$pid_file"
		for ((tries = 0; tries < timeout * 10; tries++)); do
			if ping_redis 127.0.0.1 "$port"; then
				# The pid redis-server reports for itself is the one to stop
				# (the same as $! unless setsid had to fork).
				[[ -s $state_dir/redis-server.pid ]] && pid=$(<"$state_dir/redis-server.pid")
				echo "$pid" >"$pid_file"
				echo "127.0.0.1:$port" >"$addr_file"
				echo "127.0.0.1:$port"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break # It exited: port taken after all?
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			rm -f "$pid_file"
			die "redis-server on port $port did not answer PING within ${timeout}s; log: $log_file"
		fi
		rm -f "$pid_file"
		grep -qi 'address already in use' "$log_file" || {
			cat "$log_file" >&2
			die "redis-server exited; log: $log_file"
		}
	done
	die "no free port in $first_port..$((first_port + 99))"
}

cmd_down() {
	local pid
	if ! pid=$(running_pid); then
		rm -f "$pid_file" "$addr_file"
		echo "redis.sh: not running" >&2
		return 0
	fi
	kill "$pid"
	local tries
	for ((tries = 0; tries < 100; tries++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pid_file" "$addr_file" "$state_dir/redis-server.pid"
	echo "redis.sh: stopped pid $pid" >&2
}

cmd_status() {
	local pid addr
	if pid=$(running_pid) && addr=$(current_addr) && ping_redis "${addr%:*}" "${addr##*:}"; then
		echo "running $addr (pid $pid)"
		return 0
	fi
	echo "not running"
	return 1
}

cmd_addr() {
	local addr
	running_pid >/dev/null && addr=$(current_addr) || die "not running (run: $0 up)"
	echo "$addr"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
addr | port) cmd_addr ;;
env) echo "export PVJOBS_REDIS_ADDR=$(cmd_addr)" ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac

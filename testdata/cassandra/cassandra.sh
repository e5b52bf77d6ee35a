#!/usr/bin/env bash
# Run a real single-node Apache Cassandra 5.0 on this machine for pvjobs tests,
# benchmarks and the README examples. Needs JDK 17, Maven (jars come from
# Maven Central) and python3 (stdlib only, for cql.py).
#
#   cassandra.sh install   fetch cassandra-all + dependencies into the cache (once)
#   cassandra.sh up        install if needed, start, wait until CQL answers;
#                          prints "started" or "already-running" on stdout
#   cassandra.sh down      stop the server that `up` started (no-op otherwise)
#   cassandra.sh restart   down, then up (only a server that `up` started)
#   cassandra.sh status    exit 0 if something answers CQL on the port
#   cassandra.sh owned     exit 0 if the server on the port is the one `up` started
#                          with this state dir (so down/restart may stop it)
#   cassandra.sh exec CQL  run CQL statements (args, or stdin when none), print rows
#   cassandra.sh logs      tail the server log
#   cassandra.sh clean     delete the state dir (data, logs); refuses while running
#
# Environment:
#   PVJOBS_CACHE                 cache root (default ~/.cache/pvjobs)
#   PVJOBS_CASSANDRA_VERSION     cassandra-all version (default 5.0.9)
#   PVJOBS_CASSANDRA_HOME        jar dir parent (default $PVJOBS_CACHE/cassandra-$VERSION)
#   PVJOBS_CASSANDRA_PORT        CQL port (default 9042)
#   PVJOBS_CASSANDRA_STATE       state dir: data, commit log, logs, pid file (default
#                                $PVJOBS_CACHE/cassandra-state on port 9042,
#                                $PVJOBS_CACHE/cassandra-state-PORT on any other port)
#   PVJOBS_CASSANDRA_STORAGE_PORT  internode port (default 7000 on port 9042, PORT-2042
#                                on any other: 9142 -> 7100), so instances on
#                                different CQL ports never clash. JMX is not opened.
#   PVJOBS_CASSANDRA_HEAP        -Xms/-Xmx (default 1G)
#   PVJOBS_CASSANDRA_TIMEOUT     seconds `up` waits for CQL (default 180)
#   PVJOBS_CASSANDRA_AUTHENTICATOR  AllowAllAuthenticator (default) or PasswordAuthenticator
#   JAVA_HOME                    JDK to use (else /usr/lib/jvm/java-17-openjdk-amd64, else java on PATH)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PVJOBS_CACHE:-$HOME/.cache/pvjobs}
VERSION=${PVJOBS_CASSANDRA_VERSION:-5.0.9}
CASS_HOME=${PVJOBS_CASSANDRA_HOME:-$CACHE/cassandra-$VERSION}
LIB=$CASS_HOME/lib
PORT=${PVJOBS_CASSANDRA_PORT:-9042}
[[ $PORT =~ ^[0-9]+$ && $PORT -ge 1 && $PORT -le 65535 ]] || { echo "cassandra.sh: error: PVJOBS_CASSANDRA_PORT=$PORT is not a port" >&2; exit 1; }
if [[ $PORT == 9042 ]]; then
  STATE=${PVJOBS_CASSANDRA_STATE:-$CACHE/cassandra-state}
  STORAGE_PORT=${PVJOBS_CASSANDRA_STORAGE_PORT:-7000}
else
  STATE=${PVJOBS_CASSANDRA_STATE:-$CACHE/cassandra-state-$PORT}
  storage=$((PORT - 2042))
  ((storage > 1024)) || storage=$((PORT + 10000))
  STORAGE_PORT=${PVJOBS_CASSANDRA_STORAGE_PORT:-$storage}
fi
HEAP=${PVJOBS_CASSANDRA_HEAP:-1G}
TIMEOUT=${PVJOBS_CASSANDRA_TIMEOUT:-180}
AUTHENTICATOR=${PVJOBS_CASSANDRA_AUTHENTICATOR:-AllowAllAuthenticator}
PIDFILE=$STATE/cassandra.pid
MARKER=$STATE/started-by-pvjobs
LOGDIR=$STATE/logs

say() { echo "cassandra.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

find_java() {
  local java
  if [[ -n ${JAVA_HOME:-} ]]; then java=$JAVA_HOME/bin/java
  elif [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then java=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
  else java=$(command -v java) || die "no java found: install JDK 17 or set JAVA_HOME"
  fi
  [[ -x $java ]] || die "$java is not executable (check JAVA_HOME)"
  local v
  v=$("$java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  [[ ${v%%.*} =~ ^[0-9]+$ && ${v%%.*} -ge 17 ]] || die "$java is Java '$v'; Cassandra 5.0 here needs Java 17"
  [[ $v == 17 ]] || say "warning: Java $v; Cassandra 5.0 supports Java 11 and 17 only"
  JAVA=$java
}

# Is something answering CQL on the port? (prints its release_version)
cql_ping() { python3 "$HERE/cql.py" --port "$PORT" --timeout 5 ping 2>/dev/null; }

# Pid from the pid file if that process is alive and is the server we started.
our_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dpvjobs.cassandra.state=$STATE " \
    && echo "$pid"
}

install() {
  if compgen -G "$LIB/cassandra-all-$VERSION.jar" >/dev/null && compgen -G "$LIB/jamm-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (Debian: apt-get install maven)"
  say "fetching cassandra-all $VERSION and dependencies from Maven Central into $LIB"
  local work=$CASS_HOME/maven
  rm -rf "$work" "$LIB.tmp"
  mkdir -p "$work"
  cp "$HERE/pom.xml" "$work/pom.xml" # run Maven outside the repo (it may write target/)
  # (Debian's mvn prints colour resets even with -q -B: strip them, keep stdout clean)
  (cd "$work" && mvn -q -B -Dstyle.color=never -Dcassandra.version="$VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$LIB.tmp" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2) \
    || die "mvn dependency:copy-dependencies failed"
  compgen -G "$LIB.tmp/jamm-*.jar" >/dev/null || die "jamm jar missing from $LIB.tmp"
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB" && rm -rf "$work"
  say "installed $(ls "$LIB" | wc -l) jars ($(du -sh "$LIB" | cut -f1))"
}

write_config() {
  mkdir -p "$STATE"/{conf,data,commitlog,saved_caches,hints,cdc_raw,logs,triggers}
  sed -e "s|@STATE@|$STATE|g" -e "s|@PORT@|$PORT|g" -e "s|@STORAGE_PORT@|$STORAGE_PORT|g" \
      -e "s|@AUTHENTICATOR@|$AUTHENTICATOR|g" "$HERE/cassandra.yaml" >"$STATE/conf/cassandra.yaml"
  cp "$HERE/logback.xml" "$STATE/conf/logback.xml"
}

tail_log() { # stdout.log has WARN/ERROR and JVM errors; cut the huge config dump lines
  local f
  for f in "$LOGDIR/system.log" "$LOGDIR/stdout.log"; do
    [[ -s $f ]] && { echo "---- last lines of $f" >&2; tail -n 25 "$f" | cut -c1-300 >&2; }
  done
  return 0
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cmd_up() {
  local version pid
  if version=$(cql_ping); then
    if our_pid >/dev/null; then say "Cassandra $version already running on 127.0.0.1:$PORT (started by an earlier 'up', pid $(our_pid))"
    else say "Cassandra $version already answering on 127.0.0.1:$PORT (not started by this script); leaving it alone"
    fi
    echo already-running
    return 0
  fi
  python3 -c 'import sys' 2>/dev/null || die "python3 is needed for the CQL check"
  find_java
  install
  if pid=$(our_pid); then
    say "our Cassandra (pid $pid) is still starting; waiting for it"
  else
    port_taken "$PORT" && die "port $PORT is taken by something that does not answer CQL; set PVJOBS_CASSANDRA_PORT"
    port_taken "$STORAGE_PORT" && die "storage port $STORAGE_PORT is taken; set PVJOBS_CASSANDRA_STORAGE_PORT"
    write_config
    rm -f "$MARKER"
    local opts=()
    mapfile -t opts < <(grep -E '^\s*-' "$HERE/jvm17-server.options" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
    local jamm=("$LIB"/jamm-*.jar)
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # sstables and commit log segments are open files
    say "starting Cassandra $VERSION on 127.0.0.1:$PORT (state $STATE, log $LOGDIR/system.log)"
    # setsid: own session, so the test run's Ctrl-C / process group kill does not reach it.
    cd "$STATE"
    setsid nohup "$JAVA" "${opts[@]}" -Xms"$HEAP" -Xmx"$HEAP" \
      -javaagent:"${jamm[0]}" \
      -Dcassandra.config="file://$STATE/conf/cassandra.yaml" \
      -Dlogback.configurationFile="$STATE/conf/logback.xml" \
      -Dcassandra.logdir="$LOGDIR" -Dcassandra.storagedir="$STATE" -Dcassandra.triggers_dir="$STATE/triggers" \
      -Dcassandra-foreground=yes -Dpvjobs.cassandra.state="$STATE" \
      -cp "$LIB/*" org.apache.cassandra.service.CassandraDaemon \
      </dev/null >"$LOGDIR/stdout.log" 2>&1 &
    pid=$!
    cd - >/dev/null
    echo "$pid" >"$PIDFILE"
    touch "$MARKER"
  fi
  local start=$SECONDS
  until version=$(cql_ping); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail_log; rm -f "$PIDFILE" "$MARKER"
      die "Cassandra (pid $pid) exited during start-up; see $LOGDIR"
    fi
    if (( SECONDS - start >= TIMEOUT )); then
      tail_log
      die "Cassandra (pid $pid) did not answer CQL on 127.0.0.1:$PORT within ${TIMEOUT}s (still running; '$0 down' stops it)"
    fi
    sleep 1
  done
  say "Cassandra $version is up on 127.0.0.1:$PORT (pid $pid, $((SECONDS - start))s)"
  echo started
}

cmd_down() {
  local pid
  if ! pid=$(our_pid); then
    say "no Cassandra started by this script is running; nothing to stop"
    rm -f "$PIDFILE" "$MARKER"
    return 0
  fi
  say "stopping Cassandra (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid still alive after 60s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PIDFILE" "$MARKER"
  say "stopped"
}

cmd_status() {
  local version pid
  if version=$(cql_ping); then
    if pid=$(our_pid); then say "Cassandra $version running on 127.0.0.1:$PORT (pid $pid, started by cassandra.sh)"
    else say "Cassandra $version answering on 127.0.0.1:$PORT (not started by cassandra.sh)"
    fi
    return 0
  fi
  if pid=$(our_pid); then say "Cassandra pid $pid is alive but not answering CQL on 127.0.0.1:$PORT (starting?)"
  else say "not running on 127.0.0.1:$PORT"
  fi
  return 1
}

cmd_clean() {
  our_pid >/dev/null && die "Cassandra is running; '$0 down' first"
  rm -rf "$STATE"
  say "removed $STATE"
}

case ${1:-} in
  install) find_java; install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  restart) our_pid >/dev/null || die "no Cassandra started by this script runs on port $PORT with state $STATE; not restarting"
    cmd_down; cmd_up ;;
  status) cmd_status ;;
  owned) our_pid >/dev/null ;;
  exec) shift; exec python3 "$HERE/cql.py" --port "$PORT" exec "$@" ;;
  logs) tail -n "${2:-100}" "$LOGDIR/system.log" ;;
  clean) cmd_clean ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

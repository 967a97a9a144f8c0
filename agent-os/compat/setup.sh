#!/bin/sh
# Creates a Python virtual environment at VENV_DIR with the pinned AgentOS client
# (agent-os/compat/requirements.txt) and checks that it imports; prints the
# interpreter to set as AGENT_OS_COMPAT_PYTHON.
#
#   agent-os/compat/setup.sh /tmp/agentos-venv
#   AGENT_OS_COMPAT_PYTHON=/tmp/agentos-venv/bin/python cargo test -p examples --test agentos_compat
#
# PYTHON picks the interpreter that creates the venv (default python3, 3.9 or newer).
set -eu
if [ "$#" -ne 1 ]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi
venv=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! "${PYTHON:-python3}" -m venv "$venv"; then
    echo "$0: cannot create a venv with ${PYTHON:-python3} (on Debian: apt-get install python3-venv)" >&2
    exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --requirement "$here/requirements.txt"
"$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null
"$venv/bin/python" -c "import importlib.metadata, agno.client; print('agno', importlib.metadata.version('agno'), 'and its AgentOSClient are ready')" >&2
echo "$venv/bin/python"

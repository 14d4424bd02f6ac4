"""The kernel a report runs in is ipykernel on the kit's own interpreter, whatever ``python3`` kernelspec the
user's Jupyter folders hold (a pip user's ~/.local/share/jupyter/kernels/python3 may point at another Python,
with other packages and other numbers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap


def test_a_users_python3_kernelspec_does_not_choose_the_reports_python(tmp_path):
    elsewhere = tmp_path / "jupyter" / "kernels" / "python3"
    elsewhere.mkdir(parents=True)
    (elsewhere / "kernel.json").write_text(json.dumps({
        "argv": ["/opt/another/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Another Python", "language": "python"}))
    check = textwrap.dedent("""
        import sys
        from jupyter_client.kernelspec import KernelSpecManager
        from helpers.pipeline import kernels
        found = KernelSpecManager().get_kernel_spec(kernels.KERNEL_NAME).argv[0]
        km = kernels.kernel_manager_class()(kernel_name=kernels.KERNEL_NAME)
        print(found)
        print(km.kernel_spec.argv[0])
        print(km.format_kernel_cmd()[0])
    """)
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter"), "JUPYTER_DATA_DIR": str(tmp_path / "jupyter")}
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    plain, spec, command = proc.stdout.split()
    assert plain == "/opt/another/python"  # what Jupyter itself would start: the user's kernelspec wins there
    assert spec == command == sys.executable

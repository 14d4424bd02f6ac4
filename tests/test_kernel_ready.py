"""The kit's kernel client (``helpers.pipeline.kernels.ready_client_class``) goes on as soon as the kernel has
answered on both channels, instead of waiting for IOPub to be silent for 0.2 s as jupyter_client's does; and
what the kernel said before (its status for ``kernel_info``) never reaches a cell's outputs."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from queue import Empty

from conftest import ROOT
from helpers.pipeline import kernels


def test_the_kit_s_kernels_get_the_ready_client():
    km = kernels.kernel_manager_class()(kernel_name=kernels.KERNEL_NAME)
    assert km.client_factory is kernels.ready_client_class()


def test_ready_waits_for_no_silence_and_the_first_cell_gets_only_its_own_output(monkeypatch):
    km = kernels.kernel_manager_class()(kernel_name=kernels.KERNEL_NAME)
    waits: list[float] = []

    async def go():
        await km.start_kernel(cwd=str(ROOT))
        kc = km.client()
        kc.start_channels()
        real = kc.iopub_channel.get_msg

        async def watched(timeout=None):
            waits.append(timeout)
            return await real(timeout=timeout)

        try:
            monkeypatch.setattr(kc.iopub_channel, "get_msg", watched)
            await kc.wait_for_ready(timeout=60)
            monkeypatch.undo()
            seen: list[dict] = []
            reply = await kc.execute_interactive("print('first cell')", timeout=60, output_hook=seen.append)
            assert reply["content"]["status"] == "ok"
            parents = {m["parent_header"].get("msg_id") for m in seen}
            assert parents == {reply["parent_header"]["msg_id"]}  # nothing left over from kernel_info
            assert "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream") == \
                "first cell\n"
            try:  # and nothing is left on IOPub once the cell is done
                extra = await kc.iopub_channel.get_msg(timeout=0.3)
            except Empty:
                extra = None
            assert extra is None or extra["parent_header"].get("msg_id") != reply["parent_header"]["msg_id"]
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    # in a thread of its own: an event loop some other test left running in this one cannot get in the way
    with ThreadPoolExecutor(1) as one:
        one.submit(asyncio.run, go()).result(timeout=120)
    # the kernel's status comes through IOPub; then only what is already there is read (a short poll each),
    # never a wait for 0.2 s of silence
    assert waits and all(w is not None for w in waits)
    last_probe = max(i for i, w in enumerate(waits) if w >= 0.2)
    assert waits[last_probe + 1:] and set(waits[last_probe + 1:]) == {kernels.IOPUB_SETTLE}


def test_a_kernel_started_ahead_keeps_its_history_in_memory_not_in_the_user_s_database():
    """A report's cells are not the user's IPython history: a kernel the kit starts ahead keeps it in memory,
    as nbclient has the kernels it starts keep it (parallel builds' kernels writing ~/.ipython's history
    database at once corrupted it)."""

    async def ask(km):
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            seen: list[dict] = []
            code = "print(str(get_ipython().history_manager.hist_file), get_ipython().history_manager.enabled)"
            reply = await kc.execute_interactive(code, timeout=60, output_hook=seen.append)
            assert reply["content"]["status"] == "ok"
            return "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    def started_ahead():  # in a thread of its own, as a worker's supply starts it (and free of any loop here)
        km = kernels.KernelSupply(str(ROOT))._start()
        return asyncio.run(ask(km))

    with ThreadPoolExecutor(1) as one:
        said = one.submit(started_ahead).result(timeout=120)
    assert said.split() == [kernels.HISTORY, "True"]

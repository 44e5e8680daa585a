"""A homology plugin for the sdk's tests of ntplugin.Context: compute waits
until the host cancels the call, then writes the seconds the call had left
when it began to the file $NT_TEST_MARKER and reports the cancellation."""
import os
import time

import ntplugin


class Waits(ntplugin.Homology):
    name = "pywait"
    description = "waits for the host to cancel (sdk test)"
    capabilities = {"max_dim": "0"}

    def compute(self, req, ctx):
        left = ctx.time_remaining()
        while not ctx.cancelled():
            time.sleep(0.01)
        with open(os.environ["NT_TEST_MARKER"], "w") as f:
            f.write("%r\n" % left)
        raise ntplugin.Cancelled()


if __name__ == "__main__":
    ntplugin.serve(Waits())

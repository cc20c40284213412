"""A dependency-free progress bar for the minibatches of one epoch."""

import sys


class EpochProgressBar:
    """Redraws one terminal line as minibatches complete: ``[=====>   ] 300/600``.

    It draws only when the stream is a terminal, and at most ~50 times per
    epoch, so its cost is nil next to the minibatch updates.

    Parameters
    ----------
    total : int
        Number of minibatches in the epoch.
    stream : file-like, default=sys.stdout
        Where to draw.
    width : int, default=30
        Width of the bar in characters.
    """

    def __init__(self, total, stream=None, width=30):
        self.total = max(int(total), 1)
        self.stream = sys.stdout if stream is None else stream
        self.width = width
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._step = max(self.total // 50, 1)

    def update(self, done):
        """Show that ``done`` of ``total`` minibatches are complete."""
        if not self.enabled or (done % self._step and done != self.total):
            return
        filled = self.width * done // self.total
        arrow = ">" if filled < self.width else ""
        bar = "=" * filled + arrow + " " * (self.width - filled - len(arrow))
        self.stream.write(f"\r[{bar}] {done}/{self.total}")
        self.stream.flush()

    def close(self):
        """Erase the bar so that the epoch's summary line replaces it."""
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 24) + "\r")
            self.stream.flush()

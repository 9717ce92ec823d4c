"""What a leg plays and hears: prompts sent on the shared media clock, and the digits the far end presses."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from callboard.voice.media.clock import MediaClock
from callboard.voice.media.playback import FrameSink, PlaybackFinished, Player, Prompt

__all__ = ["Prompter"]


class Prompter:
    """A leg's player (registered on the media clock while the leg has media) and its buffer of digits."""

    def __init__(self, clock: MediaClock) -> None:
        self.clock = clock
        self.player: Player | None = None
        self.closed = False
        self._plays: deque[asyncio.Future[bool]] = deque()  # one per queued prompt, in the player's order
        self._digits: asyncio.Queue[str] = asyncio.Queue()  # "" once closed

    def start(self, sink: FrameSink) -> None:
        self.player = Player(sink, on_finished=self._played)
        self.clock.register(self.player)

    def close(self) -> None:
        """Stops playing (prompts report interrupted), leaves the clock and ends a gather."""
        if self.closed:
            return
        self.closed = True
        self.stop()
        if self.player is not None:
            self.clock.unregister(self.player)
            self.player = None  # it holds this prompter (`on_finished`): no cycle left for the collector
        self._digits.put_nowait("")

    def queue(self, prompt: Prompt, *, loop: bool = False) -> asyncio.Future[bool]:
        """Plays `prompt` after the queued ones; the future says whether it played to its end."""
        if self.player is None or self.closed:
            raise RuntimeError("the prompter has no media")
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._plays.append(done)
        self.player.play(prompt, loop=loop)
        return done

    async def play(self, prompt: Prompt, *, loop: bool = False) -> bool:
        done = self.queue(prompt, loop=loop)
        try:
            return await done
        except asyncio.CancelledError:
            self.stop()
            raise

    def stop(self) -> None:
        """Interrupts the prompt playing and drops the queued ones."""
        if self.player is not None:
            self.player.stop()

    def clear_digits(self) -> None:
        """Forgets digits pressed so far (type-ahead that meant something else)."""
        while not self._digits.empty():
            self._digits.get_nowait()

    def digit(self, digit: str) -> None:
        if not self.closed:
            self._digits.put_nowait(digit)

    async def gather(self, max_digits: int, per_digit: float, terminator: str, prompt: Prompt | None) -> str:
        digits, early = "", None
        if prompt is not None and self._digits.empty():
            playing = self.queue(prompt)
            pressed = asyncio.ensure_future(self._digits.get())
            try:
                either: set[asyncio.Future[Any]] = {playing, pressed}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not pressed.done():
                    pressed.cancel()  # asyncio.Queue leaves the item queued when a woken getter is cancelled
                if not playing.done():
                    self.stop()
            if pressed.done() and not pressed.cancelled():
                early = pressed.result()
        while len(digits) < max_digits and not self.closed:
            if early is not None:
                digit, early = early, None
            else:
                try:
                    async with asyncio.timeout(per_digit):
                        digit = await self._digits.get()
                except TimeoutError:
                    break
            if not digit or digit == terminator:
                break
            digits += digit
        return digits

    def _played(self, finished: PlaybackFinished) -> None:
        if self._plays:
            done = self._plays.popleft()
            if not done.done():
                done.set_result(not finished.interrupted)

"""The errors that mean a user's mistake, as opposed to a bug in toolkit.

Every such error names the file, field, key, argument or tensor at fault, what
was expected and what was found. The command line prints its message and exits
with status 2; any other exception is a bug, and shows its traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """A file, config value, argument or tensor given by the user is not valid; the message names it."""


class InputTypeError(TypeError):
    """An argument of a kind a pipeline does not take (a mapping for texts, float images); the message says what it takes."""


class UnknownPipelineError(InputError, KeyError):
    """No pipeline is registered under the name given; the message lists the known ones.

    A `KeyError` too, as a registry lookup, and an `InputError`, as a user's mistake.
    """

    __str__ = BaseException.__str__  # KeyError's would quote the message


class Notice(UserWarning):
    """Something that works, but likely not as the user meant (an empty config file, say).

    Raised as a warning; the command line prints it as one plain line.
    """


class TrainingDivergedError(InputError):
    """The training loss became NaN or infinite before any epoch gave weights worth keeping; the message says how to fix it."""


class ExportRefusedError(InputError):
    """A run cannot be exported in the format asked for; the message names the part or op and the reason.

    Raised before anything is written: a refused export leaves the run, and any earlier export, as they were.
    """

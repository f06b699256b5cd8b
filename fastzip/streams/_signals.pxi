# Signals and error codes of the C kernels, shared by fastzip._native and
# fastzip._pairs (each includes this file after declaring the FZ_* codes).

cdef extern from "Python.h":
    # Declared without an exception clause: the poller must see the -1 and
    # leave the handler's exception (KeyboardInterrupt) pending, not have
    # Cython swallow it inside a noexcept callback.
    int check_signals_raw "PyErr_CheckSignals" ()
    void *PyErr_Occurred()


cdef int _poll_signals(void *ctx) noexcept nogil:
    """Called by the waiting thread every ~50 ms: stop on a pending signal.

    The signal handler's exception stays set on this (the calling) thread;
    ``_raise`` re-raises it once the workers have stopped.
    """
    cdef int stop
    with gil:
        stop = check_signals_raw() != 0
    return stop


cdef int _reraise_pending() except -1:
    """Propagate the exception a signal handler left pending, if any."""
    if PyErr_Occurred() != NULL:
        return -1
    return 0


cdef object _raise(int rc, str what):
    if rc == FZ_EINTR:
        _reraise_pending()            # the KeyboardInterrupt raised by the handler
        PyErr_CheckSignals()          # or a signal that arrived just now
        raise KeyboardInterrupt(what + " was interrupted")
    if rc == FZ_ENOMEM:
        raise MemoryError(what + ": out of memory")
    if rc == FZ_EARG:
        raise ValueError(what + ": invalid argument (level out of range or input too large)")
    if rc == FZ_EUNAVAIL:
        raise RuntimeError(what + ": codec or container not compiled in")
    raise RuntimeError(f"{what}: codec error ({rc})")

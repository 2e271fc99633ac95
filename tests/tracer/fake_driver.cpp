// A stand-in for libcuda.so.1 (built under that name in its own folder): on LD_LIBRARY_PATH it
// makes `goodput profile` find "a driver" on a machine without one, so the CLI tests see the
// statuses a machine with a driver gives. Nothing calls into it.
extern "C" int goodput_fake_driver() {
  return 0;
}

#pragma once
namespace goodput {
const char* tool_version();  // project version, e.g. "0.1.0"
const char* git_sha();       // commit the binary was built from, or "unknown"
bool git_dirty();            // uncommitted changes to tracked files at build time
}  // namespace goodput

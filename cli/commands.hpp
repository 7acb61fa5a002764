#pragma once
// The subcommands of the `bandoso` program. Each returns the process exit code; errors are thrown
// as bandoso::Error and turned into one stderr line and an exit code by main().

#include <CLI/CLI.hpp>

namespace bandoso::cli {

void add_demo_command(CLI::App& app);
void add_import_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_seed_command(CLI::App& app);
void add_geocode_command(CLI::App& app);
void add_check_config_command(CLI::App& app);
void add_hash_key_command(CLI::App& app);

}  // namespace bandoso::cli

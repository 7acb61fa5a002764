// bandoso — the shared digital map platform of Nghệ An province.
#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hpp"
#include "layers/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"bandoso — bản đồ số: the shared digital map platform of Nghệ An province"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bandoso 0.1.0");
  bandoso::cli::add_demo_command(app);
  bandoso::cli::add_import_command(app);
  bandoso::cli::add_serve_command(app);
  bandoso::cli::add_seed_command(app);
  bandoso::cli::add_geocode_command(app);
  bandoso::cli::add_check_config_command(app);
  bandoso::cli::add_hash_key_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << fmt::format("bandoso: usage error: {} (see bandoso --help)\n", e.what());
    return 1;
  } catch (const bandoso::Error& e) {
    std::cerr << fmt::format("bandoso: error: {}\n", e.what());
    return e.info().exit_code;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("bandoso: internal error: {}\n", e.what());
    return 2;
  }
  return 0;
}

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cfg = localcf::config::Config::parse();
    http_common::serve::main("localcf", localcf::app::run(cfg))
}

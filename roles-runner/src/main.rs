//! `roles-runner`: ansible-playbook's CLI over the roles-runner library.

use clap::Parser;

fn main() {
    let cli = roles_runner::cli::Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("[ERROR]: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(roles_runner::cli::main_with(cli));
    std::process::exit(code);
}

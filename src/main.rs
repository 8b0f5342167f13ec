//! The `seird-fit` binary: parse the command line, run, print one error line.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Like other Unix filters: when the reader of stdout goes away
    // (`seird-fit ... | head`), end quietly instead of panicking in println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any
    // thread is started has no other effect on the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match seird_fit::cli::main_with_args(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            // Whatever an error echoes, it stays one line of plain text.
            let line = seird_fit::text::escape(&seird_fit::error::cause_chain(&err));
            eprintln!("seird-fit: {line}");
            ExitCode::from(2)
        }
    }
}

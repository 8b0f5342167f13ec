//! The optimize runner as a library (`optim::run`), without the binary, and
//! the plots of `report::optim_plot` checked on their decoded pixels: the
//! log iteration axis and the colour bar of the landscape.

use seird_fit::optim::problems::{by_name, ProblemOptions};
use seird_fit::optim::run::{run_solver, trace_csv, RunSpec, SOLVERS};
use seird_fit::optim::OptimError;
use seird_fit::report::optim_plot::{
    band_colour, compare_plot_png, run_plot_png, BANDS, COLOUR_BAR_WIDTH, COMPARE_SIZE, RUN_SIZE_2D,
};

fn problem(name: &str) -> Box<dyn seird_fit::optim::problems::TestProblem> {
    by_name(name, ProblemOptions::default()).unwrap()
}

fn run(name: &str, solver: &str, max_iters: u64) -> seird_fit::optim::run::Outcome {
    let p = problem(name);
    let mut spec = RunSpec::new(solver, p.as_ref());
    spec.max_iters = max_iters;
    run_solver(p, &spec).unwrap()
}

/// Decodes an RGB PNG.
fn decode(bytes: &[u8]) -> ((usize, usize), Vec<[u8; 3]>) {
    let mut reader = png::Decoder::new(bytes).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    buf.truncate(frame.buffer_size());
    let px = buf.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    ((frame.width as usize, frame.height as usize), px)
}

#[test]
fn the_runner_records_every_iterate_and_counts_like_the_cli() {
    let o = run("rosenbrock", "lbfgsb", 1000);
    assert_eq!(o.termination, "Solver converged");
    assert!(o.error.unwrap() < 1e-5, "{:?}", o.x);
    // Rosenbrock's minimum is (1, 1) with f = 0.
    assert!(o.f < 1e-10);
    assert_eq!(o.trace[0].iter, 0);
    assert_eq!(o.trace[0].x, vec![-1.2, 1.0]);
    assert_eq!(o.trace.last().unwrap().iter, o.iterations);
    assert_eq!(o.cost_evals, o.gradient_evals);
    let csv = trace_csv(&o);
    assert_eq!(csv.lines().count(), 1 + o.trace.len());
    let row: Vec<f64> = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    // f(-1.2, 1) = (1 + 1.2)^2 + 100 (1 - 1.44)^2 = 24.2
    assert_eq!(row.len(), 4);
    assert!(
        (row[1] - 24.2).abs() < 1e-12 && row[2] == -1.2 && row[3] == 1.0,
        "{row:?}"
    );
}

#[test]
fn the_runner_rejects_unknown_solvers_and_sgd_on_non_sums_with_typed_errors() {
    let p = problem("booth");
    let spec = RunSpec::new("bfgs", p.as_ref());
    assert!(matches!(
        run_solver(p, &spec),
        Err(OptimError::UnknownSolver { ref name, .. }) if name == "bfgs"
    ));
    let p = problem("booth");
    let spec = RunSpec::new("sgd", p.as_ref());
    assert!(matches!(
        run_solver(p, &spec),
        Err(OptimError::NotASum { .. })
    ));
    assert_eq!(SOLVERS.len(), 12);
}

#[test]
fn rmsprop_jittering_at_a_minimum_is_not_called_divergence() {
    // RMSprop's steps stay about lr near a minimum, so its cost rises and
    // its steps grow for a while as it jitters there; the divergence watch
    // called that DIVERGED at f = 4.8e-6 next to Himmelblau's (3, 2).
    let o = run("himmelblau", "rmsprop", 10_000);
    assert!(!o.diverged(), "{}", o.termination);
    assert!(o.error.unwrap() < 1e-3, "{:?}", o.x);
    // A real blow-up is still caught: GD far above 2 / L on Rosenbrock.
    let p = problem("rosenbrock");
    let mut spec = RunSpec::new("gd", p.as_ref());
    spec.lr = Some(0.1);
    let o = run_solver(p, &spec).unwrap();
    assert!(o.diverged(), "{}", o.termination);
}

#[test]
fn the_compare_plot_gives_fast_solvers_room_on_a_log_iteration_axis() {
    // L-BFGS-B takes ~10 iterations on Booth where GD takes thousands: on
    // a linear axis its curve covered ~0.5 % of the width (plus the
    // legend's 20-pixel sample); on the log axis, about a quarter.
    let fast = run("booth", "lbfgsb", 10_000);
    let slow = run("booth", "gd", 10_000);
    assert!(fast.iterations < 20 && slow.iterations > 1000);
    let (size, px) = decode(&compare_plot_png(&[fast, slow]).unwrap());
    assert_eq!(size, (COMPARE_SIZE.0 as usize, COMPARE_SIZE.1 as usize));
    // The first run's colour, Palette99's first.
    let colour = [230, 25, 75];
    let columns = (0..size.0)
        .filter(|&x| (0..size.1).any(|y| px[y * size.0 + x] == colour))
        .count();
    assert!(columns > 150, "{columns} columns");
}

#[test]
fn the_landscape_has_a_colour_bar_with_every_band_in_order() {
    let o = run("himmelblau", "lbfgsb", 1000);
    let p = problem("himmelblau");
    let (size, px) = decode(&run_plot_png(&o, p.as_ref(), None).unwrap());
    assert_eq!(size, (RUN_SIZE_2D.0 as usize, RUN_SIZE_2D.1 as usize));
    let bands: Vec<[u8; 3]> = (0..BANDS)
        .map(|k| {
            let c = plotters::style::Color::to_rgba(&band_colour(k));
            [c.0, c.1, c.2]
        })
        .collect();
    // Some column of the bar (the right-most COLOUR_BAR_WIDTH pixels) runs
    // through every band from the bottom (lowest loss) to the top, each
    // once: a colour bar, not a strip of the map (whose columns go down
    // and up through the bands around a minimum).
    let found = (size.0 - COLOUR_BAR_WIDTH as usize..size.0).any(|x| {
        let mut seen: Vec<usize> = Vec::new();
        for y in (0..size.1).rev() {
            if let Some(k) = bands.iter().position(|b| *b == px[y * size.0 + x]) {
                if seen.last() != Some(&k) {
                    seen.push(k);
                }
            }
        }
        seen == (0..BANDS).collect::<Vec<_>>()
    });
    assert!(found, "no colour bar column with bands 0..{BANDS} in order");
}

use agent_core::{RunContext, toolkit};

struct Weather;
struct Db;
struct Http;

#[toolkit]
impl Weather {
    /// Reads the database.
    #[tool]
    fn read(&self, ctx: &RunContext<Db>) -> String {
        let _ = ctx;
        String::new()
    }

    /// Fetches a page.
    #[tool]
    fn fetch(&self, ctx: &RunContext<Http>) -> String {
        let _ = ctx;
        String::new()
    }
}

fn main() {}

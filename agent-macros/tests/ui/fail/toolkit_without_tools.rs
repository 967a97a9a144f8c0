use agent_core::toolkit;

struct Weather;

#[toolkit]
impl Weather {
    fn helper(&self) {}
}

fn main() {}

fn main() {
    player::start_watch_page();
}

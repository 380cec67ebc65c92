"""map_jobs: results in job order, one torch thread per run, the same results with one worker or two."""
import pytest
import torch

from gancourse.experiments.workers import check_workers, map_jobs, one_cpu_thread


def threads_and_square(job: tuple) -> tuple[int, int]:
    (x,) = job
    return torch.get_num_threads(), x * x


def test_two_workers_give_the_results_of_one_in_order_each_on_one_thread():
    jobs = [(k,) for k in range(5)]
    before = torch.get_num_threads()
    seen = []
    one = map_jobs(threads_and_square, jobs, workers=1, device=torch.device("cpu"),
                   report=lambda r: seen.append(r) or r)
    two = map_jobs(threads_and_square, jobs, workers=2, device=torch.device("cpu"))
    assert [r[1] for r in one] == [r[1] for r in two] == [0, 1, 4, 9, 16]
    assert {r[0] for r in one} == {r[0] for r in two} == {1}
    assert seen == one and torch.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_a_bad_number_of_workers_is_named(bad):
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        check_workers(bad)


def test_one_cpu_thread_gives_one_thread_inside_and_restores_the_callers_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_cpu_thread(torch.device("cpu")):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), one_cpu_thread(torch.device("cpu")):
            raise RuntimeError("a failed run restores the count too")
        assert torch.get_num_threads() == 2
        with one_cpu_thread(torch.device("meta")):  # not a CPU: torch's threads are left alone
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)

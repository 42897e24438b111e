"""The until-stable rule on planted rankings: tau between consecutive budgets and convergence."""

from vggablate.claims.stability import BudgetStep, decide, rank_change, stability_markdown

SHORT = {"vgg11": [90.0, 90.2], "vgg13": [91.0, 91.1], "vgg16": [92.0, 92.3], "vgg19": [93.0, 92.8]}


def step(agreement=None, same=None, unconverged=()):
    return BudgetStep(8.0, 3.0, {"depth": "holds"}, tuple(unconverged), agreement, same)


def test_same_ranking_settles():
    long = {a: [v + 1 for v in xs] for a, xs in SHORT.items()}
    agreement, same = rank_change(SHORT, long)
    assert same is None and agreement.tau == 1.0
    assert decide(step(agreement)).settled


def test_reversed_ranking_does_not_settle():
    reversed_ = {a: [200 - v for v in xs] for a, xs in SHORT.items()}
    agreement, _ = rank_change(SHORT, reversed_)
    assert agreement.tau == -1.0
    d = decide(step(agreement))
    assert not d.settled and "ranking moved" in d.reason


def test_one_swap_of_four_is_below_the_threshold():
    swapped = dict(SHORT, vgg16=SHORT["vgg19"], vgg19=SHORT["vgg16"])
    agreement, _ = rank_change(SHORT, swapped)
    assert round(agreement.tau, 2) == 0.67  # 5 of 6 pairs concordant
    assert not decide(step(agreement)).settled
    assert decide(step(agreement), tau_min=0.6).settled


def test_an_unconverged_net_blocks_settling_even_with_the_same_ranking():
    agreement, _ = rank_change(SHORT, SHORT)
    d = decide(step(agreement, unconverged=["vgg13 vs vgg16"]))
    assert not d.settled and "vgg13 vs vgg16" in d.reason


def test_first_budget_never_settles_and_two_archs_compare_order():
    assert not decide(step()).settled
    two = {"a": [1.0, 1.1], "b": [2.0, 2.1]}
    assert rank_change(two, two) == (None, True)
    assert rank_change(two, {"a": [3.0], "b": [2.0]}) == (None, False)
    assert decide(step(same=True)).settled and not decide(step(same=False)).settled


def test_markdown_lists_every_budget():
    agreement, _ = rank_change(SHORT, SHORT)
    steps = [step(), step(agreement)]
    text = stability_markdown(steps, [decide(s) for s in steps], "header")
    assert "| epochs" in text and "+1.00 [" in text and "yes: ranking held" in text and "no: no earlier" in text
